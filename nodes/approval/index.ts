// approval: parks the run until people decide — approve, reject or a custom outcome, each its own
// port — or the optional timeout passes. The card shows fields computed from the input; a form's
// values flow downstream; assignees, a quorum and "not the person who started the run" say who
// decides.
import { z } from 'zod';
import { durationProblem, parseDuration } from '../../engine/model/duration.js';
import {
  APPROVE,
  defineNode,
  FORM_FIELD_TYPES,
  NodeError,
  NO_RETRY,
  personKey,
  REJECT,
  TerminalError,
  TIMEOUT_PORT,
  type ConfigProblem,
} from '../../engine/sdk/index.js';
import { evaluateAll } from '../expressions.js';
import { configPortProblems, type ConfigPortRules } from '../config-ports.js';
import { checkExpression } from '../syntax.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const OUTCOME_PORTS: ConfigPortRules = {
  pattern: NAME,
  patternText: 'letters, digits, _ and -',
  reserved: new Set<string>([APPROVE.port, REJECT.port, TIMEOUT_PORT, 'error']),
  owner: 'approval',
  item: 'an outcome',
};
/** The card's field expressions run in the sandbox with the branch node's time limit. */
const FIELD_TIMEOUT_MS = 1000;

const config = z.strictObject({
  title: z.string().min(1).default('Approval required').meta({ description: 'What is being decided.' }),
  instructions: z.string().default('').meta({ description: 'What the approver should check.', format: 'markdown' }),
  timeout: z
    .string()
    .optional()
    .meta({ description: 'Give up after this long and take the `timeout` port, e.g. "3d".' }),
  outcomes: z
    .array(z.strictObject({ port: z.string(), label: z.string().min(1) }))
    .default([])
    .meta({
      description:
        'More choices besides Approve and Reject, each its own port: [{"port": "escalate", "label": "Escalate"}].',
    }),
  fields: z
    .array(
      z.strictObject({
        label: z.string().min(1),
        // An expression evaluated by the node itself: not a `{{ }}` template.
        value: z.string().min(1).meta({ format: 'expression' }),
      }),
    )
    .default([])
    .meta({
      description: 'Shown on the card: [{"label": "Amount", "value": "input.amount"}] (expressions over `input`).',
    }),
  form: z
    .array(
      z.strictObject({
        name: z.string(),
        label: z.string().min(1),
        type: z.enum(FORM_FIELD_TYPES).default('text'),
        required: z.boolean().default(false),
        options: z.array(z.string()).optional(),
      }),
    )
    .default([])
    .meta({
      description:
        'What the approver fills in; the values go downstream under `form`: [{"name": "amount", "label": "Approved amount", "type": "number", "required": true}].',
    }),
  assignees: z
    .array(z.string().trim().min(1))
    .default([])
    .meta({ description: 'Only these people may decide (names as they sign decisions); empty: anyone.' }),
  quorum: z.number().int().min(1).max(100).default(1).meta({ description: 'Approvals by different people needed.' }),
  excludeStarter: z.boolean().default(false).meta({ description: 'The person who started the run may not decide.' }),
  remindAfter: z
    .string()
    .optional()
    .meta({ description: 'Highlight it in the inbox and notify again after this long, e.g. "1d".' }),
});
type Config = z.infer<typeof config>;

/** The names once each, as decisions tell people apart (case and spacing aside). */
function distinctPeople(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.filter((name) => !seen.has(personKey(name)) && seen.add(personKey(name)));
}

function assigned(count: number): string {
  return count === 1 ? '1 person is assigned' : `${count} people are assigned`;
}

function check(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const duration = (field: 'timeout' | 'remindAfter', text: string | undefined) => {
    const problem = text === undefined ? null : durationProblem(text, '"30m", "3d"');
    // A pinned version still compiles; `execute` fails it plainly (below).
    if (problem !== null) problems.push({ field, message: problem, newVersionsOnly: true });
  };
  duration('timeout', config.timeout);
  duration('remindAfter', config.remindAfter);
  problems.push(
    ...configPortProblems(
      config.outcomes.map(({ port }) => port),
      (index) => `outcomes.${index}.port`,
      OUTCOME_PORTS,
    ),
  );
  config.fields.forEach(({ value }, index) => problems.push(...checkExpression(value, `fields.${index}.value`)));
  const names = new Set<string>();
  config.form.forEach((field, index) => {
    if (!NAME.test(field.name))
      problems.push({
        field: `form.${index}.name`,
        message: `"${field.name}" is not a field name (letters, digits, _ and -)`,
      });
    else if (names.has(field.name))
      problems.push({ field: `form.${index}.name`, message: `"${field.name}" is already a field` });
    names.add(field.name);
    if (field.type === 'select' && (field.options ?? []).length === 0)
      problems.push({ field: `form.${index}.options`, message: 'a select needs options' });
  });
  const people = distinctPeople(config.assignees).length;
  if (config.assignees.length > 0 && config.quorum > people)
    problems.push({
      field: 'quorum',
      message: `${config.quorum} approvals are needed but only ${assigned(people)}`,
    });
  return problems;
}

export const approval = defineNode({
  type: 'approval',
  typeVersion: 1,
  title: 'Approval',
  description:
    'Waits for people to approve, reject or choose a custom outcome (each its own port). Each port emits the node input, with the form values under `form` when there is a form; the decision (who, when, comment, values) goes to the journal.',
  category: 'Human',
  icon: 'user-check',
  ports: {
    in: ['in'],
    out: [APPROVE.port, REJECT.port, TIMEOUT_PORT],
    outFromConfig: { list: 'outcomes', key: 'port' },
  },
  config,
  retry: NO_RETRY,
  sideEffects: 'pure',
  check,
  async execute(ctx) {
    const { config } = ctx;
    // A version saved before durations were bounded may still hold one too long to be a time.
    for (const field of ['timeout', 'remindAfter'] as const) {
      const problem = config[field] === undefined ? null : durationProblem(config[field], '"30m", "3d"');
      if (problem !== null) throw new TerminalError(`${field}: ${problem}`, 'node.config');
    }
    const after = (text: string | undefined) => (text === undefined ? null : ctx.now() + (parseDuration(text) ?? 0));
    // Computed once, when the wait opens, in one sandbox call: the journal keeps what the approver
    // was shown. A field that throws fails the node as a config problem, naming the field.
    const values = await evaluateAll(
      ctx,
      config.fields.map((field, index) => ({ source: field.value, field: `fields.${index} ("${field.label}")` })),
      FIELD_TIMEOUT_MS,
      'fields',
    ).catch((error: unknown) => {
      throw error instanceof NodeError ? new TerminalError(error.message, 'node.config') : error;
    });
    const fields = config.fields.map((field, index) => ({ label: field.label, value: values[index] ?? null }));
    return {
      wait: {
        kind: 'approval',
        title: config.title,
        instructions: config.instructions,
        timeoutAt: after(config.timeout),
        // Only what the node sets: a plain approval journals the wait it always did.
        ...(config.outcomes.length > 0 && { outcomes: config.outcomes }),
        ...(fields.length > 0 && { fields }),
        ...(config.form.length > 0 && {
          form: config.form.map((field) => ({
            name: field.name,
            label: field.label,
            type: field.type,
            required: field.required,
            ...(field.options !== undefined && { options: field.options }),
          })),
        }),
        ...(config.assignees.length > 0 && { assignees: distinctPeople(config.assignees) }),
        ...(config.quorum > 1 && { quorum: config.quorum }),
        ...(config.excludeStarter && { excludeStarter: true }),
        ...(config.remindAfter !== undefined && { remindAt: after(config.remindAfter) }),
      },
    };
  },
  resume(ctx, outcome) {
    const port = outcome.kind === 'decision' ? outcome.decision : TIMEOUT_PORT;
    if (ctx.config.form.length === 0) return { port, output: ctx.input };
    const values = outcome.kind === 'decision' ? outcome.values : {};
    const input = ctx.input;
    // The form's values join the input under `form`; an input that is not an object is kept whole.
    const base = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : { input };
    return { port, output: { ...base, form: values } };
  },
});
