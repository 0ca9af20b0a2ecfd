// The app menu. The renderer owns the commands (renderer/src/commands/command-table.ts) and sends
// the menu it wants as a template; main validates it, adds its own roles (quit, reload, developer
// tools) and sends a click back as the item's id. Pure: main passes the click and the platform.
import type { MenuItemConstructorOptions } from 'electron';
import { z } from 'zod';

const menuItemSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
  label: z.string().min(1).max(80),
  accelerator: z
    .string()
    .regex(/^[A-Za-z0-9+=-]{1,40}$/)
    .optional(),
});
const menuSectionSchema = z.strictObject({
  label: z.string().min(1).max(40),
  groups: z.array(z.array(menuItemSchema).max(40)).max(10),
});
export const menuTemplateSchema = z.strictObject({ sections: z.array(menuSectionSchema).max(10) });
export type MenuSection = z.infer<typeof menuSectionSchema>;

function roles(platform: NodeJS.Platform): Record<string, MenuItemConstructorOptions[]> {
  return {
    File: [platform === 'darwin' ? { role: 'close' } : { role: 'quit' }],
    View: [{ role: 'reload' }, { role: 'toggleDevTools' }, { role: 'togglefullscreen' }],
  };
}

/** The page's sections with main's roles last in theirs; groups are separated. */
export function menuFromTemplate(
  sections: MenuSection[],
  click: (id: string) => void,
  platform: NodeJS.Platform,
): MenuItemConstructorOptions[] {
  const own = roles(platform);
  const named = new Set(sections.map((section) => section.label));
  const all = [
    ...sections,
    ...Object.keys(own)
      .filter((label) => !named.has(label))
      .map((label) => ({ label, groups: [] })),
  ];
  return [
    ...(platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    ...all.map((section) => {
      const groups: MenuItemConstructorOptions[][] = [
        ...section.groups.map((group) =>
          group.map((item) => ({
            label: item.label,
            ...(item.accelerator && { accelerator: item.accelerator }),
            click: () => click(item.id),
          })),
        ),
        own[section.label] ?? [],
      ].filter((group) => group.length > 0);
      return {
        label: section.label,
        submenu: groups.flatMap((group, index) => (index === 0 ? group : [{ type: 'separator' as const }, ...group])),
      };
    }),
  ];
}
