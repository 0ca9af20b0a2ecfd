// zod issues as one line a person can act on: "path: message; path: message".
import type { z } from 'zod';

/** The first issues of a zod error as "path: message", paths optionally under `root`. */
export function describeIssues(error: z.ZodError, root?: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [...(root === undefined ? [] : [root]), ...issue.path.map(String)].join('.');
      return path.length > 0 ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
