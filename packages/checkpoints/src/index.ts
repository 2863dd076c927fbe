export const packageName = '@gpt/checkpoints';
