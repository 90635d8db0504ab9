// A zeromq.js (npm "zeromq" v6) peer for tests/test_interop.py.
//
//   node peer.js '{"role": "rep", "bind": true, "endpoint": "tcp://127.0.0.1:*", "count": 5}'
//
// It prints JSON lines on stdout: {"ready": endpoint} once bound or
// connected, {"got": [frames]} for each message it received (frames as
// UTF-8 text), {"done": true} at the end.  Any failure: a message on stderr
// and exit code 1.  Roles, each the mirror of what the Python side does:
//   rep     receive count requests, answer each ["node", ...request]
//   req     send ["req i"] count times, print each reply
//   router  receive count messages [id, ...], answer [id, "node", ...]
//   dealer  send ["dealer i"] count times, print each reply
//   pub     publish "weather i" and "other i" every 10 ms until killed
//   sub     subscribe to "weather", print count messages
//   pair    send "hello from node", print the one message it receives
// "curve": {"server": true, "secret": Z85} or {"server": false, "public": Z85,
// "secret": Z85, "serverKey": Z85} secures the socket with CURVE.
"use strict"

const zmq = require("zeromq")

const config = JSON.parse(process.argv[2])
const say = (fields) => process.stdout.write(JSON.stringify(fields) + "\n")
const text = (frames) => frames.map((frame) => frame.toString("utf8"))

const classes = {
  rep: zmq.Reply, req: zmq.Request, router: zmq.Router, dealer: zmq.Dealer,
  pub: zmq.Publisher, sub: zmq.Subscriber, pair: zmq.Pair,
}

function curveOptions(curve) {
  if (!curve) return {}
  if (curve.server) return {curveServer: true, curveSecretKey: curve.secret}
  return {
    curvePublicKey: curve.public,
    curveSecretKey: curve.secret,
    curveServerKey: curve.serverKey,
  }
}

async function main() {
  const options = {linger: 2000, ...curveOptions(config.curve)}
  if (config.role !== "pub") options.receiveTimeout = 10000
  const socket = new classes[config.role](options)
  if (config.role === "sub") socket.subscribe("weather")
  if (config.bind) {
    await socket.bind(config.endpoint)
    say({ready: socket.lastEndpoint})
  } else {
    socket.connect(config.endpoint)
    say({ready: config.endpoint})
  }
  const count = config.count || 1
  switch (config.role) {
    case "rep":
      for (let i = 0; i < count; i++) {
        const request = await socket.receive()
        say({got: text(request)})
        await socket.send(["node", ...request])
      }
      break
    case "router":
      for (let i = 0; i < count; i++) {
        const [id, ...body] = await socket.receive()
        say({got: text(body)})
        await socket.send([id, "node", ...body])
      }
      break
    case "req":
    case "dealer":
      for (let i = 0; i < count; i++) {
        await socket.send(`${config.role} ${i}`)
        say({got: text(await socket.receive())})
      }
      break
    case "pub":
      for (let i = 0; ; i++) {
        await socket.send(`weather ${i}`)
        await socket.send(`other ${i}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    case "sub":
      for (let i = 0; i < count; i++) say({got: text(await socket.receive())})
      break
    case "pair":
      await socket.send("hello from node")
      say({got: text(await socket.receive())})
      break
    default:
      throw new Error(`unknown role ${config.role}`)
  }
  say({done: true})
  socket.close()
}

main().catch((error) => {
  process.stderr.write(`peer.js: ${error && error.stack || error}\n`)
  process.exit(1)
})
