/** Placeholder: the `demo` command is being built (see the issues). */
export const help = 'margin-engine demo: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine demo is not implemented yet');
}
