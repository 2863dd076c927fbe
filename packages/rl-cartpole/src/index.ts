export const packageName = '@gpt/rl-cartpole';
