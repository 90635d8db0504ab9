// A JeroMQ peer for tests/test_interop.py (compiled there with javac against
// Debian's libjeromq-java).
//
//   java -cp jeromq.jar:DIR Peer ROLE bind|connect ENDPOINT COUNT
//
// It prints JSON lines on stdout: {"ready": endpoint} once bound or
// connected, {"got": [frames]} for each message received, {"done": true} at
// the end; on failure a message on stderr and exit code 1.  Roles mirror the
// Python side:
//   rep  receive COUNT requests, answer each ["jeromq", ...request]
//   req  send ["req i"] COUNT times, print each reply
//   pub  publish "weather i" and "other i" every 10 ms until killed
//   sub  subscribe to "weather", print COUNT messages
// Written against the JeroMQ 0.3 API (org.zeromq.ZMQ), which later versions keep.

import java.util.ArrayList;
import java.util.List;

import org.zeromq.ZMQ;

public final class Peer {
    private Peer() {
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    private static void say(String key, String json) {
        System.out.println("{" + quote(key) + ": " + json + "}");
        System.out.flush();
    }

    private static List<String> receive(ZMQ.Socket socket) {
        List<String> frames = new ArrayList<>();
        do {
            String frame = socket.recvStr();
            if (frame == null) {
                throw new IllegalStateException("no message within the receive timeout");
            }
            frames.add(frame);
        } while (socket.hasReceiveMore());
        return frames;
    }

    private static String list(List<String> frames) {
        List<String> quoted = new ArrayList<>();
        for (String frame : frames) {
            quoted.add(quote(frame));
        }
        return "[" + String.join(", ", quoted) + "]";
    }

    private static void send(ZMQ.Socket socket, List<String> frames) {
        for (int i = 0; i < frames.size(); i++) {
            boolean more = i < frames.size() - 1;
            if (!socket.send(frames.get(i), more ? ZMQ.SNDMORE : 0)) {
                throw new IllegalStateException("send failed");
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String role = args[0];
        boolean bind = args[1].equals("bind");
        String endpoint = args[2];
        int count = Integer.parseInt(args[3]);
        int type;
        switch (role) {
            case "rep": type = ZMQ.REP; break;
            case "req": type = ZMQ.REQ; break;
            case "pub": type = ZMQ.PUB; break;
            case "sub": type = ZMQ.SUB; break;
            default: throw new IllegalArgumentException("unknown role " + role);
        }
        ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket socket = context.socket(type);
        try {
            socket.setLinger(2000);
            socket.setReceiveTimeOut(10000);
            if (role.equals("sub")) {
                socket.subscribe("weather".getBytes("UTF-8"));
            }
            if (bind) {
                if (endpoint.endsWith(":*")) {
                    String host = endpoint.substring(0, endpoint.length() - 2);
                    endpoint = host + ":" + socket.bindToRandomPort(host);
                } else {
                    socket.bind(endpoint);
                }
            } else {
                socket.connect(endpoint);
            }
            say("ready", quote(endpoint));
            switch (role) {
                case "rep":
                    for (int i = 0; i < count; i++) {
                        List<String> request = receive(socket);
                        say("got", list(request));
                        List<String> reply = new ArrayList<>();
                        reply.add("jeromq");
                        reply.addAll(request);
                        send(socket, reply);
                    }
                    break;
                case "req":
                    for (int i = 0; i < count; i++) {
                        List<String> request = new ArrayList<>();
                        request.add("req " + i);
                        send(socket, request);
                        say("got", list(receive(socket)));
                    }
                    break;
                case "pub":
                    for (int i = 0; ; i++) {
                        socket.send("weather " + i);
                        socket.send("other " + i);
                        Thread.sleep(10);
                    }
                case "sub":
                    for (int i = 0; i < count; i++) {
                        say("got", list(receive(socket)));
                    }
                    break;
                default:
                    break;
            }
            say("done", "true");
        } catch (Exception error) {
            System.err.println("Peer: " + error);
            error.printStackTrace();
            System.exit(1);
        }
        socket.close();
        context.term();
    }
}
