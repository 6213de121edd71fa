# Arty A7-35 (Artix-7 XC7A35T-1LCSG324): pins and clock of the pezo board top,
# hw/boards.py, for Vivado.
# The top's ports are those of `top` in build/boards/arty_a7/top.v, written by
# `pezo build --board arty_a7`; tests/test_boards.py checks that they agree.
#   clk100       100 MHz oscillator
#   rst          RESET button (active low on the board; synchronised in the top)
#   led_0        LD4 heartbeat; led_1..led_3 (LD5..LD7) pattern of the step's first words
#   button_0/1   BTN0: next step; BTN1: replay step
#   uart_0       USB-UART, 115200 8N1 (tx: the words of each step)
set_property LOC E3 [get_ports "clk100_0__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "clk100_0__io"]
set_property LOC C2 [get_ports "rst_0__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "rst_0__io"]
set_property LOC H5 [get_ports "led_0__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "led_0__io"]
set_property LOC J5 [get_ports "led_1__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "led_1__io"]
set_property LOC T9 [get_ports "led_2__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "led_2__io"]
set_property LOC T10 [get_ports "led_3__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "led_3__io"]
set_property LOC D9 [get_ports "button_0__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "button_0__io"]
set_property LOC C9 [get_ports "button_1__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "button_1__io"]
set_property LOC D10 [get_ports "uart_0__tx__io"]
set_property IOSTANDARD "LVCMOS33" [get_ports "uart_0__tx__io"]
create_clock -name clk100_0__io -period 10.0 [get_ports "clk100_0__io"]
set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 3.3 [current_design]
