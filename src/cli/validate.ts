/** Placeholder: the `validate` command is being built (see the issues). */
export const help = 'margin-engine validate: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine validate is not implemented yet');
}
