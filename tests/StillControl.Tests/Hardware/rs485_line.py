#!/usr/bin/python3
"""The RS-485 line between the master's pty and the slave's pty, for the tests.

usage: rs485_line.py MASTER_PTY SLAVE_PTY BAUD

Bytes pass both ways taking their wire time (10 bits per byte at BAUD), so a poll cycle over it can be held against the
wire-time limit. Commands on stdin, one per line, each answered "ok COMMAND" on stdout, act like a second writer on the
line or a damaged transceiver:
  corrupt      flip one bit inside the next reply
  wrong-unit   the next reply comes from another unit id (with a correct CRC)
  truncate     the next reply loses its last three bytes
  garbage      the next reply is replaced by random bytes of the same length
  prefix N     N random bytes go out just before the next reply
  noise N      N random bytes go towards the master now
  drop         the next reply is swallowed
"""
import os
import random
import select
import sys
import termios
import time
import tty


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)
    return fd


def main():
    master_fd, slave_fd = open_raw(sys.argv[1]), open_raw(sys.argv[2])
    byte_time = 10.0 / int(sys.argv[3])
    rng = random.Random(7)
    pending = []
    reply = bytearray()
    reply_started = 0.0
    print("line ready", flush=True)

    def send(fd, data):
        time.sleep(len(data) * byte_time)
        os.write(fd, bytes(data))

    def finish_reply(data):
        action = pending.pop(0) if pending else None
        if action == "corrupt":
            data[min(3, len(data) - 1)] ^= 0x10
        elif action == "wrong-unit":
            data[0] = (data[0] % 247) + 1
            c = crc16(data[:-2])
            data[-2], data[-1] = c & 0xFF, c >> 8
        elif action == "truncate":
            data = data[:-3]
        elif action == "garbage":
            data = bytearray(rng.randrange(256) for _ in data)
        elif action and action.startswith("prefix"):
            send(master_fd, bytearray(rng.randrange(256) for _ in range(int(action.split()[1]))))
        elif action == "drop":
            return
        send(master_fd, data)

    while True:
        timeout = 0.004 if reply else None
        ready, _, _ = select.select([master_fd, slave_fd, sys.stdin], [], [], timeout)
        if not ready and reply:
            finish_reply(reply)
            reply = bytearray()
            continue
        for fd in ready:
            if fd is sys.stdin:
                line = sys.stdin.readline()
                if not line:
                    return
                command = line.strip()
                if command.startswith("noise"):
                    send(master_fd, bytearray(rng.randrange(256) for _ in range(int(command.split()[1]))))
                else:
                    pending.append(command)
                print("ok " + command, flush=True)
            elif fd == master_fd:
                send(slave_fd, os.read(master_fd, 512))
            else:
                data = os.read(slave_fd, 512)
                if pending:
                    # Collect the whole reply (until 4 ms of quiet) so the damage lands on it.
                    reply += data
                else:
                    send(master_fd, data)


if __name__ == "__main__":
    main()
