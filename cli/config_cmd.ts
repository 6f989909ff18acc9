/** `config --print [--config FILE]`: the resolved configuration (defaults and substitutions applied), secrets masked. */
import { configHash, formatConfig, loadConfigFile, UsageError } from "../mod.ts";
import { type Args, rejectRest, take } from "./args.ts";

/** The config file `run` and `config` use when none is given. */
export const DEFAULT_CONFIG = new URL("../examples/config.yaml", import.meta.url).pathname;

/** Runs the `config` command. */
export async function configCommand(args: Args): Promise<void> {
  const print = take(args, "print");
  const path = take(args, "config") ?? DEFAULT_CONFIG;
  rejectRest(args, "config");
  if (print !== "true") throw new UsageError("config: use --print [--config FILE]");
  const config = await loadConfigFile(path);
  console.log(`# ${path} (config hash ${await configHash(config)})\n${formatConfig(config)}`);
}
