import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The README and docs/ link only to files of this repository that exist: a page moved or renamed,
 * or a link to something outside the repository (a sibling folder, an absolute path), fails here.
 */
const ROOT = process.cwd();
const PAGES = [
  'README.md',
  'BENCHMARKS.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

function links(page: string): string[] {
  const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((t) => !/^[a-z]+:|^#/i.test(t));
}

describe('documentation links', () => {
  test.each(PAGES)('%s links only to files of the repository that exist', (page) => {
    const broken = links(page)
      .map((target) => ({
        target,
        file: resolve(dirname(join(ROOT, page)), decodeURI(target.split('#')[0] ?? '')),
      }))
      .filter(({ file }) => relative(ROOT, file).startsWith('..') || !existsSync(file))
      .map(({ target }) => target);
    expect(broken).toEqual([]);
  });

  test('every page under docs/ is reachable from the README', () => {
    const fromReadme = new Set(links('README.md').map((t) => t.split('#')[0]));
    const unlinked = PAGES.filter((p) => p.startsWith('docs/') && !fromReadme.has(p));
    expect(unlinked).toEqual([]);
  });

  test('no page points outside the repository in its text', () => {
    // The workplace's own notes (a sibling folder of the repository) are not there for a reader.
    const outside = PAGES.filter((p) => /\/work\/|GUIDE\.md|AWS-FACTS\.md/.test(readFileSync(p, 'utf8')));
    expect(outside).toEqual([]);
  });
});
