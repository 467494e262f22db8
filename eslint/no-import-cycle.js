// ESLint rule parley/no-import-cycle: a file may not reach itself through static imports —
// `import`, `import type` and `export … from` alike. A type imported back from the file that
// imports you is a cycle of concepts (../shared/STYLE.md, "do not imitate"), which is why this
// rule exists beside eslint-plugin-import-x: its no-cycle skips type-only imports.
// Dynamic `import()` is not followed (the CLI loads its commands that way, on purpose).
// The graph is read with TypeScript's parser, once per file per lint run.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

/** file → the local files it imports statically (resolved absolute paths). */
const graph = new Map();

function staticImports(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out = [];
  for (const st of source.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      const spec = st.moduleSpecifier.text;
      if (spec.startsWith('./') || spec.startsWith('../')) out.push(resolve(dirname(file), spec));
    }
  }
  return out;
}

function importsOf(file) {
  let deps = graph.get(file);
  if (deps === undefined) {
    try {
      deps = staticImports(file, readFileSync(file, 'utf8'));
    } catch {
      deps = []; // not a readable local file (a missing import is tsc's to report)
    }
    graph.set(file, deps);
  }
  return deps;
}

/** A path of files from `start` back to `target`, or undefined. */
function pathTo(start, target) {
  const seen = new Set([start]);
  const stack = [[start, [start]]];
  while (stack.length > 0) {
    const [file, path] = stack.pop();
    for (const dep of importsOf(file)) {
      if (dep === target) return path;
      if (!seen.has(dep)) {
        seen.add(dep);
        stack.push([dep, [...path, dep]]);
      }
    }
  }
  return undefined;
}

export const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import cycles, type-only imports included' },
    schema: [],
    messages: { cycle: 'import cycle: {{cycle}}' },
  },
  create(context) {
    const file = resolve(context.filename);
    const root = context.cwd;
    // Lint sees the current text, which may differ from disk (an editor, lintText in tests).
    graph.set(file, staticImports(file, context.sourceCode.text));
    const check = (node) => {
      if (!node.source || typeof node.source.value !== 'string') return;
      const spec = node.source.value;
      if (!spec.startsWith('./') && !spec.startsWith('../')) return;
      const dep = resolve(dirname(file), spec);
      const back = dep === file ? [] : pathTo(dep, file);
      if (back === undefined) return;
      const cycle = [file, ...back, file].map((f) => relative(root, f)).join(' → ');
      context.report({ node: node.source, messageId: 'cycle', data: { cycle } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default { rules: { 'no-import-cycle': noImportCycle } };
