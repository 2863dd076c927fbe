// Checks for the JSON options a task factory receives (from the API, the CLI or a worker
// thread): each error names the task and the option.

/** Unknown option names are errors, so a typo does not silently fall back to a default. */
export function rejectUnknownOptions(task: string, options: Record<string, unknown>, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new Error(`${task}: options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (options[key] !== undefined && !known.includes(key)) throw new Error(`${task}: unknown option "${key}"; known options: ${known.join(', ')}`);
  }
}

export function optionalString(task: string, options: Record<string, unknown>, key: string): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${task}: option ${key} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalInteger(task: string, options: Record<string, unknown>, key: string, min: number): number | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new Error(`${task}: option ${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalObject(task: string, options: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${task}: option ${key} must be an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}
