#!/usr/bin/python3
"""An independent Modbus RTU slave for the tests: pymodbus serving two transmitters on a serial line.

usage: modbus_slave.py PORT BAUD [UNITS]
Unit 1 (a temperature module), holding registers from 0:
  0: int16 -123      1: uint16 65000     2-3: int32 -100000 (high word first)
  4-5: float32 98.25 (high word first)   6-7: float32 98.25 (low word first)   8-9: uint32 3000000000 (low word first)
  10: int16 785 (78.5 C at scale 0.1)
Unit 1 input registers from 0: 0: 2345
Unit 2 (a steam pressure transmitter), holding registers from 0: 0: 1234 (123.4 kPa at scale 0.1)
Units 3..UNITS (default 2) are copies of unit 1 (the benchmark's bus of many transmitters).
Registers 0-31 exist; reading beyond them answers exception 02 (illegal data address).
"""
import logging
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartSerialServer
from pymodbus.transaction import ModbusRtuFramer


def words(fmt, value, low_first=False):
    raw = struct.pack(">" + fmt, value)
    hi, lo = struct.unpack(">HH", raw)
    return [lo, hi] if low_first else [hi, lo]


def unit1():
    holding = [0] * 32
    holding[0] = -123 & 0xFFFF
    holding[1] = 65000
    holding[2:4] = words("i", -100000)
    holding[4:6] = words("f", 98.25)
    holding[6:8] = words("f", 98.25, low_first=True)
    holding[8:10] = words("I", 3000000000, low_first=True)
    holding[10] = 785
    inputs = [0] * 32
    inputs[0] = 2345
    # pymodbus adds 1 to the wire address when zero_mode is off; zero_mode=True keeps wire address = index.
    return ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, holding), ir=ModbusSequentialDataBlock(0, inputs), zero_mode=True)


def unit2():
    holding = [0] * 32
    holding[0] = 1234
    return ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, holding), ir=ModbusSequentialDataBlock(0, [0] * 32), zero_mode=True)


def main():
    port, baud = sys.argv[1], int(sys.argv[2])
    units = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    logging.basicConfig(level=logging.WARNING)
    slaves = {1: unit1(), 2: unit2()}
    for unit in range(3, units + 1):
        slaves[unit] = unit1()
    context = ModbusServerContext(slaves=slaves, single=False)
    print("slave ready", flush=True)
    StartSerialServer(context=context, framer=ModbusRtuFramer, port=port, baudrate=baud, timeout=0.005)


if __name__ == "__main__":
    main()
