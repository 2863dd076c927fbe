// The per-tensor sizes of the paper's three task networks, in state-dict order
// (gpt-paper.md §1.2-1.4), shared by the tests.

/** MNIST MLP: fc1.weight 10x784, fc1.bias, fc2.weight 10x10, fc2.bias (D = 7,960). */
export const MNIST_SIZES = [7840, 10, 100, 10];
/** CIFAR-10 CNN: conv1.weight 16x3x3x3, conv2.weight 32x16x3x3, fc.weight 10x32, fc.bias (D = 5,370). */
export const CIFAR10_SIZES = [432, 4608, 320, 10];
/** Cartpole policy: log_std, actor.0.{weight,bias}, actor.2.{weight,bias}, actor.4.{weight,bias} (D = 1,250). */
export const CARTPOLE_SIZES = [1, 128, 32, 1024, 32, 32, 1];
