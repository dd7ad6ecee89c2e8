package network

import "github.com/vishvananda/netns"

func netnsHandle(fd int) netns.NsHandle { return netns.NsHandle(fd) }
