// `make demo-down`: stops the demo's real-node cluster and restores the host (demo.ts).
import { main } from "../../tasks/lib/task.ts";
import { downTask } from "./demo.ts";

if (import.meta.main) await main("demo-down", [downTask]);
