// The document in the page, from its markdown download: the title, the plan's headings (each with
// an id) and the paragraphs, set at a readable measure, with the headings as a table of contents
// whose links move to them. A partial document's first line (a quote) says what it lacks.

const HEADING = /^(#{2,6}) (.*)$/;

// [{kind: "heading", level, text} | {kind: "note", text} | {kind: "paragraph", text}], title.
export function parsed(markdown) {
  const blocks = markdown.split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean);
  const title = blocks[0]?.startsWith("# ") ? blocks.shift().slice(2) : "";
  return [title, blocks.map((block, i) => {
    const heading = HEADING.exec(block);
    if (heading && !block.includes("\n")) return { kind: "heading", level: heading[1].length, text: heading[2] };
    if (i === 0 && block.startsWith("> ")) return { kind: "note", text: block.slice(2) };
    return { kind: "paragraph", text: block };
  })];
}

export function render(markdown, body, contents) {
  const [, blocks] = parsed(markdown);
  const fragment = document.createDocumentFragment();
  const entries = [];
  let n = 0;
  for (const block of blocks) {
    let element;
    if (block.kind === "heading") {
      element = document.createElement(`h${Math.min(block.level + 1, 6)}`);  // the page's own h1/h2 come first
      element.id = `doc-h${++n}`;
      element.tabIndex = -1;
      entries.push([block.level - 1, block.text, element.id]);
    } else {
      element = document.createElement("p");
      if (block.kind === "note") element.className = "partial-note";
    }
    element.textContent = block.text;
    fragment.append(element);
  }
  body.replaceChildren(fragment);
  contents.replaceChildren(entries.length ? tableOfContents(entries) : "");
  contents.hidden = entries.length === 0;
}

function tableOfContents(entries) {
  const list = document.createElement("ol");
  for (const [depth, text, id] of entries) {
    const item = document.createElement("li");
    item.dataset.depth = depth;
    const link = Object.assign(document.createElement("a"), { href: `#${id}`, textContent: text });
    link.addEventListener("click", (e) => {
      e.preventDefault();
      const target = document.getElementById(id);
      target.scrollIntoView({ block: "start" });
      target.focus({ preventScroll: true });
    });
    item.append(link);
    list.append(item);
  }
  return list;
}
