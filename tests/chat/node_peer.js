// A peer that behaves like the original CTurn client.js, for the chat's
// interoperability tests: an RSA-2048 key pair, its public key sent as PKCS#1
// PEM in the username frame, each line encrypted once per known key with
// crypto.publicEncrypt's defaults and sent as a directed message, plain text
// when it knows no key, and client.js's output formats. Two deliberate
// differences, so that the tests are not flaky: frames split over reads are
// put back together, and lines come from stdin without a prompt.
//   node node_peer.js HOST PORT USERNAME
"use strict";
const net = require("net");
const crypto = require("crypto");
const readline = require("readline");

const [host, port, username] = process.argv.slice(2);
const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const keys = new Map(); // name -> PEM, never forgotten, as in client.js

const socket = net.createConnection({ host, port: Number(port) }, () => {
  console.log("Connected to server");
  send({ type: "username",
         body: { content: username, pubkey: publicKey.export({ type: "pkcs1", format: "pem" }) } });
});

function send(frame) {
  socket.write(JSON.stringify(frame) + "\n");
}

function show(frame) {
  switch (frame.type) {
    case "message": {
      let text = frame.body.content;
      if (frame.body.encrypted) {
        try {
          text = crypto.privateDecrypt(privateKey, Buffer.from(text, "base64")).toString("utf8");
        } catch (e) {
          text = "[Decryption failed]";
        }
      }
      console.log(`${frame.sender}: ${text}`);
      break;
    }
    case "system": console.log(`[System] ${frame.body.content}`); break;
    case "welcome": console.log(`[Server] ${frame.body.content}`); break;
    case "error": console.log(`[Error] ${frame.body.content}`); break;
    case "pubkey":
      keys.set(frame.sender, frame.body.content);
      console.log(`[Key] Received public key from ${frame.sender}`);
      break;
  }
}

let pending = "";
socket.setEncoding("utf8");
socket.on("data", (data) => {
  const lines = (pending + data).split("\n");
  pending = lines.pop();
  for (const line of lines) {
    if (line.trim()) show(JSON.parse(line));
  }
});
socket.on("end", () => { console.log("Disconnected from server"); process.exit(0); });

readline.createInterface({ input: process.stdin }).on("line", (input) => {
  if (input.startsWith("/")) {
    const [type, ...rest] = input.slice(1).split(" ");
    send(type === "leave" ? { type, body: {} } : { type, body: { content: rest.join(" ") } });
  } else if (keys.size > 0) {
    for (const [name, pem] of keys) {
      const content = crypto.publicEncrypt(pem, Buffer.from(input)).toString("base64");
      send({ type: "message", body: { content, encrypted: true, to: name } });
    }
  } else {
    send({ type: "message", body: { content: input } });
  }
});
