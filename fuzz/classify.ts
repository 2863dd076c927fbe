// Whether an error thrown by a reader is a clean refusal: a typed error (a class of its own,
// not a bare Error, not a built-in TypeError/RangeError/..., not a raw Node system error such
// as EISDIR) whose message names the input, so a user with thousands of files knows which one
// is bad and why without a debugger.

const UNTYPED = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']);

export function classifyError(error: unknown, path: string): { outcome: 'clean' | 'raw-error'; detail: string } {
  if (!(error instanceof Error)) return { outcome: 'raw-error', detail: `threw a non-Error: ${String(error).slice(0, 300)}` };
  const detail = `${error.name}: ${error.message}`.slice(0, 600);
  const system = 'errno' in error || 'syscall' in error;
  if (UNTYPED.has(error.name) || error.constructor === Error || system) return { outcome: 'raw-error', detail: `untyped ${detail}` };
  if (!error.message.includes(path)) return { outcome: 'raw-error', detail: `does not name ${path}: ${detail}` };
  return { outcome: 'clean', detail };
}
