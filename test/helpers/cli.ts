import { runCli } from '../../cli/program';

/**
 * Runs the CLI in-process on `args`, capturing what it prints: stdout (commander's output,
 * console.log, direct writes) and stderr (commander's errors, console.error) as text. Progress lines
 * written straight to stderr are dropped.
 */
export async function runCliCaptured(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(`${a.join(' ')}\n`)),
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(`${a.join(' ')}\n`)),
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    }),
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true),
  ];
  try {
    const code = await runCli(args, { writeOut: (t) => void out.push(t), writeErr: (t) => void err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}
