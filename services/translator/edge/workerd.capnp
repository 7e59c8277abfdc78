# workerd serving the edge bundle as an ES module Worker (the build copies this file beside translator.mjs):
#   workerd serve edge/dist/workerd.capnp [--socket-addr http=127.0.0.1:8787]
# The limits come from the process environment when set (defaults otherwise), as a Worker's vars would.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "translator", worker = .translator) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "translator") ],
);

const translator :Workerd.Worker = (
  modules = [ (name = "translator.mjs", esModule = embed "translator.mjs") ],
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "FLOWGATE_TRANSLATOR_BODY_LIMIT", fromEnvironment = "FLOWGATE_TRANSLATOR_BODY_LIMIT"),
    (name = "FLOWGATE_TRANSLATOR_MAX_MESSAGES", fromEnvironment = "FLOWGATE_TRANSLATOR_MAX_MESSAGES"),
  ],
);
