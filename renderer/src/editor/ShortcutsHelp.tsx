// The keyboard shortcuts overlay: the command table's shortcuts, then the canvas's mouse gestures.
import { shortcutRows } from '../commands/command-table.js';
import { Modal } from '../ui/Modal.js';

export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts" data-testid="shortcuts-help">
        <tbody>
          {shortcutRows().map((row) => (
            <tr key={row.id}>
              <td>
                <kbd>{row.keys}</kbd>
              </td>
              <td>{row.description}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>Drag</kbd> · <kbd>Shift click</kbd>
            </td>
            <td>Box-select · add to the selection</td>
          </tr>
          <tr>
            <td>
              <kbd>Space drag</kbd> · <kbd>scroll</kbd> · <kbd>Ctrl scroll</kbd>
            </td>
            <td>Pan · pan · zoom</td>
          </tr>
        </tbody>
      </table>
    </Modal>
  );
}
