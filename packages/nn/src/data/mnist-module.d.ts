// Types for the optional peer `mnist` (1.1.0): an array of ten digit classes whose
// `raw` holds that class's 28x28 images as [0, 1] floats, concatenated.
declare module 'mnist' {
  const digits: { readonly id: number; readonly raw: readonly number[]; readonly length: number }[];
  export default digits;
}
