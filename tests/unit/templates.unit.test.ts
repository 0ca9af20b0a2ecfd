// Every template is a valid workflow, written in the export format (so import → export is byte-exact).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatWorkflowFile } from '../../engine/model/workflow-file.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { validateWorkflowText } from '../../engine/validate/index.js';
import { ROOT } from '../support/harness.js';

const dir = join(ROOT, 'assets', 'templates');
const files = readdirSync(dir).filter((file) => file.endsWith('.stepwise.json'));

describe('templates', () => {
  it.each(files)('%s is valid and in the export format', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const result = validateWorkflowText(text, defaultRegistry());
    expect(result.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    if (!result.workflow) throw new Error('no workflow');
    expect(formatWorkflowFile(result.workflow)).toBe(text);
  });

  it('there are templates to start from', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });
});
