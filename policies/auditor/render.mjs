// DOT -> SVG with Graphviz compiled to WebAssembly (@viz-js/viz, pinned in package-lock.json).
// stdin: {"name": "digraph ..."}; stdout: {"name": "<svg ...>"}; one process for every diagram.
import { instance } from "@viz-js/viz";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const sources = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const viz = await instance();
const out = { graphviz: viz.graphvizVersion, svgs: {} };
for (const name of Object.keys(sources).sort()) {
  const result = viz.render(sources[name], { format: "svg" });
  if (result.status !== "success") {
    process.stderr.write(`${name}: ${result.errors.map((e) => e.message).join("; ")}\n`);
    process.exit(1);
  }
  out.svgs[name] = result.output;
}
process.stdout.write(JSON.stringify(out));
