export const packageName = '@gpt/transformer';
