module pion-dc

go 1.19
