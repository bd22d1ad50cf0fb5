/** Placeholder: the `import` command is being built (see the issues). */
export const help = 'margin-engine import: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine import is not implemented yet');
}
