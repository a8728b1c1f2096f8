// `make local-packages`: only the Debian packages of the local stack (as root).
import { main } from "../lib/task.ts";
import { packagesTask } from "./demo.ts";

if (import.meta.main) await main("local-packages", [packagesTask]);
