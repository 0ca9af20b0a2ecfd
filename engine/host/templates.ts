// Templates (assets/templates): listing, and making a workflow from one. A template may run its
// steps as child workflows (`subworkflow`, `loop.map`): those live in `parts/`, are not listed, and
// are created with it — saved as a version, since a child runs on a saved version — with the
// parent's `workflowId` pointing at the copies. A template that calls the built-in mock service
// says so (`mockService`), and its URLs are rewritten to the port the service really took.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, type Template } from '../api/index.js';
import { MOCK_SERVICE_DEFAULT_ORIGIN } from '../mock-service/server.js';
import { WORKFLOW_FILE_SUFFIX } from '../model/workflow-file.js';
import { workflowSchema, type Workflow } from '../model/workflow.js';

/** Child workflows of templates: created with the template that names them, never listed. */
export const TEMPLATE_PARTS_DIR = 'parts';

interface TemplateFile {
  template: Template;
  graph: Workflow;
}

function readTemplates(dir: string): TemplateFile[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(WORKFLOW_FILE_SUFFIX));
  } catch {
    return [];
  }
  return files.sort().flatMap((file) => {
    let parsed;
    try {
      parsed = workflowSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown);
    } catch {
      return [];
    }
    if (!parsed.success) return [];
    const graph = parsed.data;
    const template: Template = {
      file,
      id: graph.id,
      name: graph.name,
      description: graph.description ?? '',
      mockService: JSON.stringify(graph).includes(MOCK_SERVICE_DEFAULT_ORIGIN),
    };
    return [{ template, graph }];
  });
}

/** The listed templates of `dir`. */
export function listTemplates(dir: string): Template[] {
  return readTemplates(dir).map(({ template }) => template);
}

/** What making a workflow from a template needs from the engine. */
export interface TemplateTarget {
  /** Creates a workflow from the graph (a fresh id) and returns its id. */
  create(graph: Workflow): Promise<string>;
  /** Saves the new workflow's draft as version 1. */
  saveVersion(workflowId: string): Promise<void>;
  /** Starts the mock service if needed and returns its origin. */
  mockOrigin(): Promise<string>;
}

/** The `workflowId` each node config names (subworkflow, loop.map). */
function childIds(graph: Workflow): string[] {
  return graph.nodes.flatMap((node) => {
    const id = (node.config as { workflowId?: unknown } | undefined)?.workflowId;
    return typeof id === 'string' ? [id] : [];
  });
}

function withChildIds(graph: Workflow, ids: ReadonlyMap<string, string>): Workflow {
  return {
    ...graph,
    nodes: graph.nodes.map((node) => {
      const config = node.config as Record<string, unknown> | undefined;
      const id = config?.workflowId;
      if (config === undefined || typeof id !== 'string' || !ids.has(id)) return node;
      return { ...node, config: { ...config, workflowId: ids.get(id) } };
    }),
  };
}

const atOrigin = (graph: Workflow, origin: string): Workflow =>
  origin === MOCK_SERVICE_DEFAULT_ORIGIN
    ? graph
    : (JSON.parse(JSON.stringify(graph).split(MOCK_SERVICE_DEFAULT_ORIGIN).join(origin)) as Workflow);

/** Makes a workflow (and its parts) from template `file` of `dir`; returns the new workflow's id. */
export async function createFromTemplate(
  dir: string,
  file: string,
  name: string,
  target: TemplateTarget,
): Promise<string> {
  const found = readTemplates(dir).find((entry) => entry.template.file === file);
  if (!found) throw new ApiError('not-found', `no template "${file}"`);
  const parts = new Map(readTemplates(join(dir, TEMPLATE_PARTS_DIR)).map((entry) => [entry.graph.id, entry]));
  let origin: string | null = null;
  const located = async (graph: Workflow): Promise<Workflow> => {
    if (!JSON.stringify(graph).includes(MOCK_SERVICE_DEFAULT_ORIGIN)) return graph;
    origin ??= await target.mockOrigin();
    return atOrigin(graph, origin);
  };
  // Parts first, depth first: a part may have parts of its own. `made` maps template ids to new ids.
  const made = new Map<string, string>();
  const make = async (graph: Workflow, trail: readonly string[]): Promise<Workflow> => {
    for (const id of childIds(graph)) {
      const part = parts.get(id);
      if (!part || made.has(id)) continue;
      if (trail.includes(id)) throw new ApiError('invalid', `template part "${id}" runs itself as a child`);
      const child = await make(part.graph, [...trail, id]);
      const childId = await target.create(child);
      await target.saveVersion(childId);
      made.set(id, childId);
    }
    return located(withChildIds(graph, made));
  };
  const graph = await make(found.graph, [found.graph.id]);
  return target.create({ ...graph, name: name.trim() || found.graph.name });
}
