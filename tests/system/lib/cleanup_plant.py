#!/usr/bin/python3
# What a user leaves in her tmpdir instance for attack_cleanup.sh (issue 6,
# entry 11), run as that user inside her session.
#   cleanup_plant.py DIR FILES DEPTH
# Symlinks to /etc, /etc/passwd, /, .., another user's home and file, and a
# dangling one; FILES empty files (in subdirectories of 1,000); a chain of
# DEPTH nested directories (far beyond PATH_MAX) with a file at the bottom;
# a hard link between two of her own files; a FIFO and a socket.
import os
import socket
import sys

top, files, depth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
links = {"etc": "/etc", "passwd": "/etc/passwd", "root": "/", "up": "..",
         "bobhome": "/home/bob", "bobsecret": "/home/bob/secret", "dangling": "/nonexistent/x"}
for name, target in links.items():
    os.symlink(target, os.path.join(top, name))
    # The same links deeper down too: the walk meets them mid-tree.
    os.makedirs(os.path.join(top, "sub", "sub"), exist_ok=True)
    os.symlink(target, os.path.join(top, "sub", "sub", name))
many = os.path.join(top, "many")
os.mkdir(many)
for i in range(files):
    if i % 1000 == 0:
        chunk = os.path.join(many, str(i // 1000))
        os.mkdir(chunk)
    os.close(os.open(os.path.join(chunk, str(i)), os.O_CREAT | os.O_WRONLY, 0o600))
fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
os.mkdir("deep", dir_fd=fd)
for _ in range(depth):
    nxt = os.open("deep", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nxt
    os.mkdir("deep", dir_fd=fd)
os.close(os.open("bottom", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=fd))
os.close(fd)
with open(os.path.join(top, "mine"), "w") as f:
    f.write("mine\n")
os.link(os.path.join(top, "mine"), os.path.join(top, "sub", "mine-link"))
os.mkfifo(os.path.join(top, "fifo"))
socket.socket(socket.AF_UNIX).bind(os.path.join(top, "socket"))
