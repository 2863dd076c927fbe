export const packageName = '@gpt/nn';
