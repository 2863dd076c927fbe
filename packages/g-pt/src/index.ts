export const packageName = '@gpt/g-pt';
