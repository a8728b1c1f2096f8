// Step 3 of `make local-up`: the private PostgreSQL.
import { main } from "../../tasks/lib/task.ts";
import { postgresqlStep } from "./stack.ts";
import { startStep } from "./step.ts";

export const task = startStep(
  "local/03-postgresql",
  "Private PostgreSQL (127.0.0.1, SSL) with the database and login the configuration names",
  "initdb in .work/local/postgresql as user postgres, SSL on, TCP only with SSL and a password; starts it on --pg-port.",
  "initialize and start PostgreSQL",
  postgresqlStep,
);

if (import.meta.main) await main(task.id, [task]);
