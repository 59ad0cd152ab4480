/**
 * ComfyUI's error body: `{"error": {"type", "message", "details"}, "node_errors": {"<node id>":
 * {"class_type", "errors": [{"message", "details"}]}}}` (a refused workflow), or plain text.
 */
export function describeComfyUiError(body: unknown): { code?: string; message?: string } {
  const { error, node_errors: nodeErrors } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { type, message, details } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const parts = [message, details].filter((part): part is string => typeof part === 'string' && part !== '');
  if (typeof error === 'string') parts.push(error);
  if (typeof nodeErrors === 'object' && nodeErrors !== null) {
    for (const [node, report] of Object.entries(nodeErrors)) {
      const { class_type: classType, errors } = (report ?? {}) as { class_type?: unknown; errors?: unknown };
      const texts = Array.isArray(errors)
        ? errors.map((item) => {
            const { message: text, details: more } = (item ?? {}) as Record<string, unknown>;
            return [text, more].filter((part) => typeof part === 'string' && part !== '').join(': ');
          })
        : [];
      parts.push(`node ${node}${typeof classType === 'string' ? ` (${classType})` : ''}: ${texts.join('; ')}`);
    }
  }
  return {
    ...(typeof type === 'string' ? { code: type } : {}),
    ...(parts.length === 0 ? {} : { message: parts.join('; ') }),
  };
}
