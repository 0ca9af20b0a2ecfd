// Output ports a node's config names (an approval's outcomes, a switch's cases: `outFromConfig`):
// each must be a port name, not one of the ports every node of the type has, and named once.
import type { ConfigProblem } from '../engine/sdk/index.js';

export interface ConfigPortRules {
  /** What a port name may be, and how to say it. */
  pattern: RegExp;
  patternText: string;
  /** The ports every node of the type has. */
  reserved: ReadonlySet<string>;
  /** The node type as people call it ("approval") and one item of the list ("an outcome"). */
  owner: string;
  item: string;
}

export function configPortProblems(
  ports: readonly string[],
  fieldOf: (index: number) => string,
  rules: ConfigPortRules,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  ports.forEach((port, index) => {
    const field = fieldOf(index);
    if (!rules.pattern.test(port))
      problems.push({ field, message: `"${port}" is not a port name (${rules.patternText})` });
    else if (rules.reserved.has(port))
      problems.push({ field, message: `"${port}" is a port every ${rules.owner} has` });
    else if (seen.has(port)) problems.push({ field, message: `"${port}" is already ${rules.item}` });
    seen.add(port);
  });
  return problems;
}
