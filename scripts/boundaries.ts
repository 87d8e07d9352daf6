/**
 * Dependency-boundary rules from docs/architecture.md (DESIGN.md §2), checked on the TypeScript AST:
 *
 * - [B1] sync-server/src may import from shared only `@parley/shared/protocol` (never crypto open/decrypt
 *   paths, the envelope or the client core) and never `@noble/ciphers`; it never imports app/.
 * - [B2] shared/src imports no Node-only or DOM-only module (no `node:*`, no Node builtins, no server or
 *   browser-only packages) and references no Node-only or DOM-only global (process, Buffer, window, …).
 * - [B3] shared/src never imports app/ or sync-server/.
 * - [B4] app/src never imports sync-server/.
 */
import ts from 'typescript';
import { builtinModules } from 'node:module';

export interface Violation {
  file: string;
  line: number;
  rule: string;
  message: string;
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Packages that only work in Node (servers) or only in browsers; shared/ must not depend on them. */
const PLATFORM_PACKAGES = [
  'ws', 'pg', 'argon2', 'express', 'ioredis', 'jsonwebtoken', 'tsx',
  '@hocuspocus/server', '@hocuspocus/extension-database', '@hocuspocus/extension-redis',
  '@electric-sql/pglite', 'y-indexeddb', 'idb', 'solid-js', '@solidjs/router', 'playwright-core', '@playwright/test',
];

/** Globals that exist only in Node or only in browsers (type positions are not checked). */
const PLATFORM_GLOBALS = new Set([
  'process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'module',
  'window', 'document', 'localStorage', 'sessionStorage', 'indexedDB', 'navigator', 'location', 'alert',
]);

const SERVER_ALLOWED_SHARED = new Set(['@parley/shared/protocol']);

function isPlatformPackage(spec: string): boolean {
  return PLATFORM_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`));
}

/** The workspace area a repo-relative path belongs to, or null when no rule applies. */
export function areaOf(file: string): 'server' | 'shared' | 'app' | null {
  const f = file.replaceAll('\\', '/');
  if (f.startsWith('sync-server/src/')) return 'server';
  if (f.startsWith('shared/src/')) return 'shared';
  if (f.startsWith('app/src/')) return 'app';
  return null;
}

function resolvesInto(file: string, spec: string, dir: string): boolean {
  if (!spec.startsWith('.')) return false;
  const base = file.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '..') base.pop();
    else if (part !== '.') base.push(part);
  }
  return base.join('/').startsWith(`${dir}/`) || base.join('/') === dir;
}

function checkImport(file: string, area: 'server' | 'shared' | 'app', spec: string): string | null {
  if (area === 'server') {
    if (spec.startsWith('@parley/shared') && !SERVER_ALLOWED_SHARED.has(spec))
      return `[B1] server may import only @parley/shared/protocol, not ${spec}`;
    if (resolvesInto(file, spec, 'shared')) return `[B1] server must import shared through @parley/shared/protocol (${spec})`;
    if (spec === '@noble/ciphers' || spec.startsWith('@noble/ciphers/')) return `[B1] server must not decrypt (${spec})`;
    if (spec.startsWith('@parley/app') || resolvesInto(file, spec, 'app')) return `[B1] server must not import app (${spec})`;
  }
  if (area === 'shared') {
    if (NODE_BUILTINS.has(spec)) return `[B2] shared must not import Node builtin ${spec}`;
    if (isPlatformPackage(spec)) return `[B2] shared must not import platform-only package ${spec}`;
    if (spec.startsWith('@parley/app') || spec.startsWith('@parley/sync-server') || resolvesInto(file, spec, 'app') || resolvesInto(file, spec, 'sync-server'))
      return `[B3] shared must not import app or sync-server (${spec})`;
  }
  if (area === 'app') {
    if (spec.startsWith('@parley/sync-server') || resolvesInto(file, spec, 'sync-server'))
      return `[B4] app must not import sync-server (${spec})`;
  }
  return null;
}

/** True when `node` is an identifier used as a value reference (not a property name, key or type). */
function isValueReference(node: ts.Identifier): boolean {
  const p = node.parent;
  if (!p) return true;
  if (ts.isPropertyAccessExpression(p) && p.name === node) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isMethodSignature(p)) && p.name === node) return false;
  if (ts.isShorthandPropertyAssignment(p)) return true;
  if (ts.isTypeReferenceNode(p) || ts.isQualifiedName(p) || ts.isTypeQueryNode(p)) return false;
  if ((ts.isParameter(p) || ts.isVariableDeclaration(p) || ts.isBindingElement(p)) && p.name === node) return false;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  if (ts.isEnumMember(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) return false;
  return true;
}

/** Checks one file's source text against the rules for its area. `file` is repo-relative. */
export function checkSource(file: string, source: string): Violation[] {
  const area = areaOf(file);
  if (!area) return [];
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: Violation[] = [];
  const report = (node: ts.Node, message: string) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push({ file, line: line + 1, rule: message.slice(1, message.indexOf(']')), message });
  };
  const declared = new Set<string>();
  const visit = (node: ts.Node): void => {
    let spec: string | null = null;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      spec = node.moduleSpecifier.text;
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1) {
      const arg = node.arguments[0]!;
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isDynamicImport || isRequire) && ts.isStringLiteralLike(arg)) spec = arg.text;
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      spec = node.argument.literal.text;
    }
    if (spec !== null) {
      const problem = checkImport(file, area, spec);
      if (problem) report(node, problem);
    }
    if (area === 'shared') {
      if ((ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isFunctionDeclaration(node)) && node.name && ts.isIdentifier(node.name)) declared.add(node.name.text);
      if (ts.isIdentifier(node) && PLATFORM_GLOBALS.has(node.text) && !declared.has(node.text) && isValueReference(node))
        report(node, `[B2] shared must not use the platform-only global ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}
