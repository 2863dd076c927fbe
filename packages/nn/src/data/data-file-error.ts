// The error every dataset reader of @gpt/nn throws for a file (or folder) that is missing,
// of the wrong kind, or whose bytes are not what its format promises. Its message always
// contains the file, so a bad download among many can be found without a debugger; catch
// it by class (or by name, where bundles duplicate classes).

export class DataFileError extends Error {
  /** The file or folder the problem is about. */
  readonly file: string;
  /** What is wrong (the message, without a leading file name). */
  readonly problem: string;

  /** `problem` is prefixed with "<file>: " unless it already names the file. */
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(problem.includes(file) ? problem : `${file}: ${problem}`, options);
    this.name = 'DataFileError';
    this.file = file;
    this.problem = problem;
  }
}
