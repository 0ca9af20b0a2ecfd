// The "Playback" choice of a new run (the run dialog) or a fork (the fork dialog): llm.chat nodes
// answer from the answers recorded before, without calling or paying the provider.
export function PlaybackOption(props: {
  testId: string;
  className: string;
  /** What "answer from the record" means where the choice is offered. */
  title: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <label className={props.className} title={props.title}>
      <input
        type="checkbox"
        data-testid={props.testId}
        checked={props.checked}
        onChange={(change) => props.onChange(change.target.checked)}
      />{' '}
      Playback (use recorded model answers)
    </label>
  );
}
