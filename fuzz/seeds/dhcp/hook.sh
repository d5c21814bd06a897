export tftp='10.0.0.5:6969'
