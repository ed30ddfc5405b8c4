/**
 * Test code for a child process: dist/ holds no test code, so a child that
 * runs a test module (a plain Node process over dist/) gets it as CommonJS
 * transpiled from the TypeScript here, with the options every such child uses.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import ts from 'typescript';

/** `source` (a .ts file) as CommonJS, written to `out`; returns the JavaScript. */
export function transpileForChild(source: string, out: string): string {
  const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  fs.mkdirSync(dirname(out), { recursive: true });
  fs.writeFileSync(out, outputText);
  return outputText;
}
