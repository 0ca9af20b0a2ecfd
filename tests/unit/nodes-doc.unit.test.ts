// docs/nodes.md stays complete: a section per registered node type, naming its versions, its fixed
// output ports and its retry default, with an example node whose config the type accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READABLE_ISSUES } from '../../engine/model/issues.js';
import type { AnyNodeDefinition } from '../../engine/sdk/index.js';
import { builtinNodes } from '../../nodes/index.js';
import { ROOT } from '../support/harness.js';

/** `## <type>` sections of the document, by heading. */
function sections(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const parts = text.split(/^## /m).slice(1);
  for (const part of parts) {
    const newline = part.indexOf('\n');
    found.set(part.slice(0, newline).trim(), part.slice(newline + 1));
  }
  return found;
}

const doc = sections(readFileSync(join(ROOT, 'docs', 'nodes.md'), 'utf8'));
const byType = new Map<string, AnyNodeDefinition[]>();
for (const definition of builtinNodes)
  byType.set(definition.type, [...(byType.get(definition.type) ?? []), definition]);

describe('docs/nodes.md', () => {
  it('has a section for every registered node type, and none for a type that does not exist', () => {
    expect([...byType.keys()].filter((type) => !doc.has(type))).toEqual([]);
    expect([...doc.keys()].filter((heading) => !byType.has(heading))).toEqual([]);
  });

  for (const [type, definitions] of byType) {
    it(`${type}: versions, ports, retry default and a valid example`, () => {
      const section = doc.get(type) ?? '';
      for (const definition of definitions) {
        expect(section, `typeVersion ${definition.typeVersion}`).toContain(`typeVersion ${definition.typeVersion}`);
        for (const port of definition.ports.out) expect(section, `port ${port}`).toContain(`\`${port}\``);
      }
      const latest = definitions.reduce((a, b) => (b.typeVersion > a.typeVersion ? b : a));
      const retry = /^\| Retry default \| (.*) \|$/m.exec(section)?.[1] ?? '';
      if (latest.retry.maxAttempts === 1) expect(retry).toMatch(/^none/);
      else expect(retry).toContain(`${latest.retry.maxAttempts} attempts`);

      const example = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
      expect(example, 'an example node').toBeDefined();
      const node = JSON.parse(example ?? '') as { type: string; typeVersion: number; config: unknown };
      expect(node.type).toBe(type);
      const definition = definitions.find((candidate) => candidate.typeVersion === node.typeVersion);
      expect(definition, `typeVersion ${node.typeVersion} is registered`).toBeDefined();
      const parsed = definition?.config.safeParse(node.config, READABLE_ISSUES);
      expect(parsed?.error?.issues ?? []).toEqual([]);
      expect(parsed?.success && definition?.check ? definition.check(parsed.data) : []).toEqual([]);
    });
  }
});
