export const packageName = '@gpt/diffusion';
