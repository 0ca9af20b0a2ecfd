// Validation by the engine's own validator, shortly after each change of the graph. Only the
// answer for the latest graph is kept: an older answer arriving late would show stale problems.
import { useEffect, useState } from 'react';
import type { Problem, Workflow } from '../../../engine/api/index.js';
import { useApi } from '../app/client-context.js';

const DELAY_MS = 250;

export function useValidation(graph: Workflow): Problem[] {
  const api = useApi();
  const [problems, setProblems] = useState<Problem[]>([]);
  useEffect(() => {
    let latest = true;
    const timer = setTimeout(() => {
      api.validate({ workflow: graph }).then(
        (result) => {
          if (latest) setProblems(result.problems);
        },
        () => {},
      );
    }, DELAY_MS);
    return () => {
      latest = false;
      clearTimeout(timer);
    };
  }, [api, graph]);
  return problems;
}
