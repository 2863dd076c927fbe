export const packageName = '@gpt/tensor';
