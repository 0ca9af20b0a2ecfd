// The node type catalog the editor looks node types up in (by type + typeVersion, or the latest).
import type { NodeType, WorkflowNode } from '../../../engine/api/index.js';

export interface NodeCatalog {
  list: NodeType[];
  of: (node: Pick<WorkflowNode, 'type' | 'typeVersion'>) => NodeType | undefined;
  latest: (type: string) => NodeType | undefined;
}

export function createCatalog(list: NodeType[]): NodeCatalog {
  const byKey = new Map(list.map((type) => [`${type.type}@${type.typeVersion}`, type]));
  const latest = new Map(list.filter((type) => type.latest).map((type) => [type.type, type]));
  return {
    list,
    of: (node) => byKey.get(`${node.type}@${node.typeVersion}`),
    latest: (type) => latest.get(type),
  };
}
