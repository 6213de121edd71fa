// Sipeed Tang Nano 9K: the clock of the pezo board top (pins: tang_nano_9k.cst).
create_clock -name {clk27_0__io} -period 37.03703703703704 [get_ports {clk27_0__io}]
