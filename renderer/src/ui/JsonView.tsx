// A JSON value, pretty-printed, foldable, with copy: filled in by the timeline work. Contract:
// the element with `testId` has as textContent exactly JSON.stringify(value, null, 2) (folded
// parts are hidden, never removed), so tests and the clipboard read the same text.
export function JsonView({ value, testId, label }: { value: unknown; testId?: string; label?: string }) {
  return (
    <div className="json-view" aria-label={label}>
      <pre data-testid={testId}>{value === undefined ? '' : JSON.stringify(value, null, 2)}</pre>
    </div>
  );
}
