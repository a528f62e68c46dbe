// Render a batch of TeX formulas with the KaTeX that package-lock.json pins.
//
// One process renders a whole build (or a whole test): matref.site and the tests write one JSON
// document to stdin and read one from stdout, so the ~100 ms node start-up is paid once, not once per
// formula. The first argument is KaTeX's ES module (node_modules/katex/dist/katex.mjs): the script ships
// inside the Python package, far from any node_modules, so it is told where the pinned KaTeX is.
//
//   node katex_render.mjs /path/to/node_modules/katex/dist/katex.mjs
//   stdin:  [{"tex": "x^T A x", "display": false}, ...]
//   stdout: {"katex": "0.16.47",
//            "results": [{"html": "<span class=\"katex\" role=\"img\" aria-label=\"x^T A x\">..."}
//                        | {"error": "KaTeX parse error: ..."}, ...]}
//
// Every formula is rendered with throwOnError, so a formula KaTeX cannot parse comes back as an error
// (the caller fails the build) instead of a red .katex-error span on the page. LaTeX that KaTeX can
// render but flags under its `strict` rules (e.g. Unicode text in math mode) comes back with "warnings".
// Exit status: 0 when the batch was read and answered (even if some formulas failed), 2 on bad input.
import { pathToFileURL } from "node:url";

if (process.argv.length < 3) {
  process.stderr.write("usage: node katex_render.mjs /path/to/katex/dist/katex.mjs\n");
  process.exit(2);
}
const katex = (await import(pathToFileURL(process.argv[2]).href)).default;

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function escapeAttribute(text) {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function render({ tex, display }) {
  const warnings = [];
  try {
    const html = katex.renderToString(tex, {
      displayMode: Boolean(display),
      throwOnError: true,
      // Collect strict-mode complaints instead of letting KaTeX print them to stderr.
      strict: (code, message) => {
        warnings.push(`${code}: ${message}`);
        return "ignore";
      },
      trust: false,
      // HTML alone: KaTeX's MathML copy was a sixth of a reference page's bytes and a quarter of its
      // elements, all styled and laid out again on every layout switch. Screen readers and text
      // tools get the TeX instead, as a label on the formula (as Wikipedia's math images do).
      output: "html",
    });
    const labelled = html.replace('<span class="katex">',
      `<span class="katex" role="img" aria-label="${escapeAttribute(tex)}">`);
    return warnings.length ? { html: labelled, warnings } : { html: labelled };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) };
  }
}

const input = await readStdin();
let items;
try {
  items = JSON.parse(input);
  if (!Array.isArray(items)) throw new Error("expected a JSON array of {tex, display}");
} catch (err) {
  process.stderr.write(`katex_render: bad input: ${err.message}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify({ katex: katex.version, results: items.map(render) }));
