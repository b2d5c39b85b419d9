// Escaping for HTML text and attribute values (SVG included): model output, prompts, run names and labels
// are untrusted, so every string a caller passes in goes through here before it reaches the page.
// Not a sanitizer: it never lets markup through, it turns all of it into text.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe inside HTML/SVG element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
