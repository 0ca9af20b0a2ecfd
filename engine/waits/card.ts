// The card of an inbox item: what a person is shown and asked — outcomes (each its own port), fields
// computed from the node's input, a form to fill in, who may decide and how many must approve.
// Shared by every wait kind that puts an item in the inbox (approvals, a timer asking a person).
import { z } from 'zod';

/** The outcomes every approval has; a node adds its custom ones after these. */
export const APPROVE = { port: 'approved', label: 'Approve' } as const;
export const REJECT = { port: 'rejected', label: 'Reject' } as const;
/** The port a timeout takes; no outcome may be named so. */
export const TIMEOUT_PORT = 'timeout';

export const cardOutcomeSchema = z.strictObject({ port: z.string(), label: z.string() });
export type CardOutcome = z.infer<typeof cardOutcomeSchema>;

/** A value shown to the approver, computed from the node's input when the wait opened. */
export const cardFieldSchema = z.strictObject({ label: z.string(), value: z.unknown() });

export const FORM_FIELD_TYPES = ['text', 'textarea', 'number', 'boolean', 'select', 'date'] as const;
/** A field the approver fills in; its value flows downstream under `form.<name>`. */
export const formFieldSchema = z.strictObject({
  name: z.string(),
  label: z.string(),
  type: z.enum(FORM_FIELD_TYPES),
  required: z.boolean(),
  options: z.array(z.string()).optional(),
});
export type FormField = z.infer<typeof formFieldSchema>;

/** Everything an approver is shown and asked, as the inbox keeps it (`WaitRecord.card`). */
export const inboxCardSchema = z.strictObject({
  outcomes: z.array(cardOutcomeSchema),
  fields: z.array(cardFieldSchema),
  form: z.array(formFieldSchema),
  assignees: z.array(z.string()),
  quorum: z.number().int(),
  excludeStarter: z.boolean(),
  remindAt: z.number().nullable(),
});
export type InboxCard = z.infer<typeof inboxCardSchema>;

/** The card of an item that says nothing more: approve or reject, anyone, once. */
export const PLAIN_CARD: InboxCard = {
  outcomes: [APPROVE, REJECT],
  fields: [],
  form: [],
  assignees: [],
  quorum: 1,
  excludeStarter: false,
  remindAt: null,
};

/** The form's values, checked against its fields: the problem, named, or null. */
export function formProblem(
  form: readonly FormField[],
  values: Record<string, unknown>,
  decision: string,
): string | null {
  for (const name of Object.keys(values))
    if (!form.some((field) => field.name === name)) return `the form has no field "${name}"`;
  for (const field of form) {
    const value = values[field.name];
    // A required checkbox is one that must be ticked ("I checked the receipt").
    const missing = value === undefined || value === null || value === '' || (field.type === 'boolean' && !value);
    if (missing) {
      // A rejection needs no form: the approver is saying no, not filling it in.
      if (field.required && decision !== REJECT.port)
        return field.type === 'boolean' ? `"${field.label}" must be ticked` : `"${field.label}" is required`;
      if (value === undefined || value === null || value === '') continue;
    }
    const wrong = (what: string): string => `"${field.label}" must be ${what}`;
    switch (field.type) {
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) return wrong('a number');
        break;
      case 'boolean':
        if (typeof value !== 'boolean') return wrong('true or false');
        break;
      case 'select':
        if (typeof value !== 'string' || !(field.options ?? []).includes(value))
          return wrong(`one of ${(field.options ?? []).map((option) => `"${option}"`).join(', ')}`);
        break;
      case 'date':
        if (typeof value !== 'string' || !isCalendarDate(value)) return wrong('a date (YYYY-MM-DD)');
        break;
      default:
        if (typeof value !== 'string') return wrong('text');
    }
  }
  return null;
}

/** `YYYY-MM-DD` naming a day that exists (Date.parse accepts 2023-02-30 and rolls it over). */
function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/**
 * A person as decisions name them: the same whatever the case, surrounding spaces or Unicode form
 * ("Alice", " alice", "ＡＬＩＣＥ" are one person), so a quorum, assignees and "not the starter"
 * cannot be met or dodged by retyping a name.
 */
export function personKey(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase();
}
