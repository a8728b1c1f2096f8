// `make local-up`: the chart's Orthanc configuration running for real — Debian's
// Orthanc with the PostgreSQL plugins, a private PostgreSQL, haproxy as the
// stand-in for Traefik/Istio — then the smoke suite against it. Safe to run
// again: parts already running as wanted are reused. Each step also runs alone.
import { main } from "../../tasks/lib/task.ts";
import { task as packages } from "./01-packages.ts";
import { task as render } from "./02-render.ts";
import { task as postgresql } from "./03-postgresql.ts";
import { task as orthanc } from "./04-orthanc.ts";
import { task as proxy } from "./05-proxy.ts";
import { task as smoke } from "./06-smoke.ts";

export const localUpTasks = [packages, render, postgresql, orthanc, proxy, smoke];

if (import.meta.main) await main("local-up", localUpTasks);
