print("openmtd")
